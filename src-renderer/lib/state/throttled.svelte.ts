// A version number that follows another at most every `everyMs`: views that sum a run's whole
// history (the details pane, the shared-objects table) read it instead of the model's version,
// which moves every frame while a run streams. A change after a quiet spell shows at once.

export function throttled(read: () => number, everyMs = 250): { readonly current: number } {
  let shown = $state(0);
  let last = 0;
  $effect(() => {
    const v = read();
    const wait = last + everyMs - performance.now();
    if (wait <= 0) {
      last = performance.now();
      shown = v;
      return;
    }
    const timer = setTimeout(() => {
      last = performance.now();
      shown = v;
    }, wait);
    return () => clearTimeout(timer);
  });
  return {
    get current() {
      return shown;
    },
  };
}
