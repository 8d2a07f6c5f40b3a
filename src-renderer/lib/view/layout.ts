// How the workspace is shared between the charts and the process table: the table takes the rows
// it needs, but never so many that the lesson view (the first chart) cannot be seen whole.

export interface LayoutInput {
  /** Height of the whole workspace (charts + splitter + table), px. */
  workspace: number;
  /** What the table needs for every line it lists (header bars and rows), px. */
  tableNeeds: number;
  /** Height of the lesson view, px (0 before the first run). */
  lesson: number;
  /** Above the lesson view in the charts pane (its view bar, paddings), px. */
  chartsChrome: number;
  /** The table never gets less (its header and two rows), px. */
  minTable: number;
}

/** The table's height, px. */
export function tableHeight(o: LayoutInput): number {
  const room = o.workspace - o.chartsChrome - o.lesson;
  return Math.round(Math.max(o.minTable, Math.min(o.tableNeeds, room)));
}
