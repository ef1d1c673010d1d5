// The application's change page: "Copy metadata URL" copies the URL instead of following the link.
document.addEventListener("click", function (event) {
  "use strict";
  var link = event.target.closest("a[data-copy]");
  if (!link || !navigator.clipboard) return;
  event.preventDefault();
  navigator.clipboard.writeText(link.dataset.copy).then(function () {
    link.textContent = "Metadata URL copied";
  });
});
