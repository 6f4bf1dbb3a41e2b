/**
 * What the HTML page is made of, as data: sections of text, tables and Vega-Lite charts, plus the per-item
 * images and values that the interactive parts (scatter plots, the reconstruction grid) draw from. A new kind of
 * result (an analysis's line charts) is one more `ReportSection`: the page renders any section the same way.
 */

/** A table cell: its text, an optional second line (an interval), and what the page and its tests can read back. */
export interface ReportCell {
  text: string;
  sub?: string;
  /** The number the text shows, unrounded (a `data-value` attribute), so that a test can compare it with results.json. */
  value?: number | null;
  /** `data-*` attributes naming what the cell is (pipeline, subject, metric…). */
  data?: Record<string, string>;
  /** Extra CSS classes: `best`, `not-above-floor`, `floor`, `code`… */
  classes?: string[];
}

export interface ReportTableRow {
  /** A CSS class for the row: `floor`, `mean`, `block-start`. */
  kind?: string;
  cells: Array<ReportCell | string>;
}

export interface ReportTable {
  id?: string;
  caption?: string;
  head: string[];
  rows: ReportTableRow[];
  /** Lines under the table: its legend. */
  notes?: string[];
}

export interface ReportChart {
  id?: string;
  title?: string;
  /** A Vega-Lite spec with its data inline (`data.values`): the page never fetches anything. */
  spec: Record<string, unknown>;
}

export interface ReportSection {
  /** The anchor in the page (`#image-metrics`); unique within a report. */
  id: string;
  title: string;
  text?: string[];
  tables?: ReportTable[];
  charts?: ReportChart[];
}

/** One metric's per-item values in a group, per grid column's pipeline (null: undefined for that item). */
export interface ItemMetric {
  /** `target/metric`, the key of results.json's perItem. */
  key: string;
  label: string;
  direction: 'higher' | 'lower';
  values: Record<string, Array<number | null>>;
}

/** The items of one subject on one dataset: their images and per-item metric values. */
export interface ItemGroup {
  id: string;
  title: string;
  ids: string[];
  pipelines: string[];
  /** Image keys (of ReportData.images) per item, or absent when the results folder has no saved images. */
  truth?: string[];
  columns: Array<{ label: string; pipeline: string; stage?: string; images: string[] }>;
  metrics: ItemMetric[];
}

export interface ReportData {
  title: string;
  subtitle: string;
  sections: ReportSection[];
  items: { title: string; text: string[]; groups: ItemGroup[] };
  /** Image key → its source: a data: URI, or a path relative to the page. */
  images: Record<string, string>;
}
