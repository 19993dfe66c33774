// graphbuild report: draw every figure whose spec is embedded in the page as JSON, and
// open a resource's page when one of its bars or nodes is clicked.
(function () {
  "use strict";
  function draw(div) {
    var source = document.getElementById(div.getAttribute("data-figure"));
    if (!source || typeof Plotly === "undefined") { return; }
    var spec = JSON.parse(source.textContent);
    Plotly.newPlot(div, spec.data, spec.layout, spec.config).then(function () {
      div.on("plotly_click", function (event) {
        var point = event && event.points && event.points[0];
        var target = point && point.customdata;
        if (typeof target === "string" && /\.html(#.*)?$/.test(target)) { window.location.href = target; }
      });
    });
  }
  document.querySelectorAll("[data-figure]").forEach(draw);
}());
