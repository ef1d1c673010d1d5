// The portal's search box filters the tiles as you type; without JavaScript it submits as a GET filter instead.
(function () {
  "use strict";
  var input = document.getElementById("id_q");
  var tiles = document.querySelectorAll("#tiles .tile");
  var none = document.getElementById("no-match");
  if (!input || !tiles.length) return;
  input.addEventListener("input", function () {
    var term = input.value.trim().toLowerCase();
    var shown = 0;
    tiles.forEach(function (tile) {
      var match = !term || tile.dataset.search.indexOf(term) !== -1;
      tile.hidden = !match;
      if (match) shown++;
    });
    if (none) none.hidden = shown !== 0;
  });
})();
