// The preset picker's structure: presets grouped under the headings of the seed tutorial
// (shared/seed-examples.md) and numbered by seed, "2a"/"2b" when one seed has several presets.

import type { Lang, PresetInfo } from '../../src-main/api.ts';

export type Topic = 'processes' | 'members' | 'ipc' | 'lock' | 'other';

/** The tutorial's sections: 1-4 creating processes, 5 members, 6-7 communication, 8 locks. */
export function topicOfSeed(seed: number): Topic {
  if (seed >= 1 && seed <= 4) return 'processes';
  if (seed === 5) return 'members';
  if (seed === 6 || seed === 7) return 'ipc';
  if (seed === 8) return 'lock';
  return 'other';
}

export interface PresetOption {
  id: string;
  /** "2a" */
  number: string;
  /** "2a. join() inside the loop (wrong)" */
  label: string;
}

export interface PresetGroup {
  topic: Topic;
  options: PresetOption[];
}

const TOPIC_ORDER: Topic[] = ['processes', 'members', 'ipc', 'lock', 'other'];

export function groupPresets(presets: readonly PresetInfo[], lang: Lang): PresetGroup[] {
  const sorted = [...presets].sort((a, b) => a.seed - b.seed); // stable: catalog order within a seed
  const perSeed = new Map<number, number>();
  for (const p of sorted) perSeed.set(p.seed, (perSeed.get(p.seed) ?? 0) + 1);
  const seen = new Map<number, number>();
  const groups = new Map<Topic, PresetOption[]>();
  for (const p of sorted) {
    const i = seen.get(p.seed) ?? 0;
    seen.set(p.seed, i + 1);
    const number = (perSeed.get(p.seed) ?? 1) > 1 ? `${p.seed}${String.fromCharCode(97 + (i % 26))}` : String(p.seed);
    const topic = topicOfSeed(p.seed);
    const list = groups.get(topic) ?? [];
    list.push({ id: p.id, number, label: `${number}. ${p.title[lang] || p.title.en}` });
    groups.set(topic, list);
  }
  return TOPIC_ORDER.filter((topic) => groups.has(topic)).map((topic) => ({ topic, options: groups.get(topic)! }));
}
