/* crossmodal docs: the "contents" button in the article's header (sphinx-book-theme) has no handler with
   the pydata-sphinx-theme version underneath, which binds only its own (hidden) navbar button. Forward the
   click to that button: the theme then opens the page's contents in its dialog. */
document.addEventListener("DOMContentLoaded", () => {
  const themeToggle = document.querySelector(".bd-header .secondary-toggle");
  if (!themeToggle) return;
  document.querySelectorAll(".bd-header-article .secondary-toggle").forEach((button) => {
    button.addEventListener("click", (event) => {
      event.preventDefault();
      themeToggle.click();
    });
  });
});
