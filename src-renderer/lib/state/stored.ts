// The window's small memory between sessions (localStorage), and errors as one line: what every
// piece of state shares. Storage can be disabled: then choices last for this window only.

export function readStored(key: string): string | null {
  try {
    return localStorage.getItem(key);
  } catch {
    return null;
  }
}

export function writeStored(key: string, value: string): void {
  try {
    localStorage.setItem(key, value);
  } catch {
    // Not remembered: fine.
  }
}

/** An error that crossed the api (`{ name, message }`) or any thrown value, in one line. */
export function errorText(e: unknown): string {
  if (e && typeof e === 'object' && 'message' in e) {
    const name = 'name' in e && typeof e.name === 'string' && e.name !== 'Error' ? `${e.name}: ` : '';
    return `${name}${String((e as { message: unknown }).message)}`;
  }
  return String(e);
}
