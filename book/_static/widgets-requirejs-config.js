// Loaded between RequireJS and the ipywidgets HTML manager (nb_ipywidgets_js in _config.yml).
// The manager's bundle derives the folder of its fonts from the RequireJS URL of the module
// "@jupyter-widgets/html-manager/dist/libembed-amd", which by default is relative to the page
// (book/@jupyter-widgets/...: 404). Point it at the self-hosted copy in _static/vendor/.
(function () {
  var root = document.documentElement.dataset.content_root || "";
  require.config({
    paths: { "@jupyter-widgets/html-manager/dist": root + "_static/vendor/html-manager" },
  });
})();
