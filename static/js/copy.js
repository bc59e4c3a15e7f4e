// Copy buttons: <button data-copy="element-id">. Served from the project; no inline script.
document.addEventListener("click", async (event) => {
  const button = event.target.closest("button[data-copy]");
  if (!button) return;
  const source = document.getElementById(button.dataset.copy);
  const text = source.value !== undefined ? source.value : source.textContent;
  const status = document.getElementById(button.dataset.copy + "-status");
  try {
    await navigator.clipboard.writeText(text.trim());
    if (status) status.textContent = "Copied.";
  } catch (err) {
    // Clipboard access needs https or localhost; fall back to selecting the text.
    const range = document.createRange();
    range.selectNodeContents(source);
    const selection = window.getSelection();
    selection.removeAllRanges();
    selection.addRange(range);
    if (status) status.textContent = "Selected: press Ctrl+C to copy.";
  }
});
