/**
 * Saves text as a file the way a page can: a Blob behind an <a download>. Electron
 * turns it into its save dialog, a browser into a download; neither needs a
 * permission or a channel of its own.
 */
export function downloadText(fileName: string, text: string, type = 'application/json'): void {
  const url = URL.createObjectURL(new Blob([text], { type }));
  const link = document.createElement('a');
  link.href = url;
  link.download = fileName;
  link.hidden = true;
  document.body.append(link);
  try {
    link.click();
  } finally {
    link.remove();
    // Some browsers start the download after click() returns; revoking at once can cancel it.
    setTimeout(() => URL.revokeObjectURL(url), 0);
  }
}
