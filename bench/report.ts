// The group-by benchmark's results: the record of one run, the console table (engine × question, both
// runs and the ratio to DuckDB's best), the JSON file and a hand-written SVG bar chart (log scale).

import type { EngineName } from './engines.js';
import type { QueryId } from './groupby-queries.js';

export type RunOutcome =
  | { readonly ms: number; readonly rows: number; readonly check: 'reference' | 'ok' }
  | { readonly ms: number; readonly rows: number; readonly check: 'failed'; readonly disagreements: readonly string[] }
  | { readonly check: 'error'; readonly error: string }
  | { readonly check: 'skipped'; readonly reason: string };

export interface QueryResult {
  readonly id: QueryId;
  readonly question: string;
  readonly runs: RunOutcome[];
  /** Where each operator ran (gpuframe's WebGPU engine only), from explainAnalyze after the timed runs. */
  placement?: string;
}

export interface EngineResult {
  readonly name: EngineName;
  readonly label: string;
  readonly unavailable?: string;
  loadMs?: number;
  /** The host's 1-minute load average before and after this engine ran: other work on the machine skews times. */
  loadAverage?: { before: number; after?: number };
  readonly queries: QueryResult[];
}

export interface BenchRecord {
  readonly benchmark: 'db-benchmark groupby';
  readonly rows: number;
  readonly k: number;
  readonly seed: number;
  readonly date: string;
  readonly host: Readonly<Record<string, string | number>>;
  readonly data: { readonly path: string; readonly cached: boolean; readonly ms: number };
  readonly tolerances: Readonly<Record<string, number>>;
  readonly engines: EngineResult[];
  readonly failures: number;
}

function timedRuns(query: QueryResult | undefined): number[] {
  return (query?.runs ?? []).flatMap((r) => ('ms' in r ? [r.ms] : []));
}

/** The best (fastest) timed run, or null when none ran. */
export function bestMs(query: QueryResult | undefined): number | null {
  const times = timedRuns(query);
  return times.length > 0 ? Math.min(...times) : null;
}

function formatMs(ms: number): string {
  return ms < 100 ? ms.toFixed(1) : ms.toFixed(0);
}

function runCell(run: RunOutcome | undefined): string {
  if (!run) return '-';
  switch (run.check) {
    case 'error':
      return 'ERROR';
    case 'skipped':
      return 'skip';
    case 'failed':
      return `${formatMs(run.ms)}!`;
    default:
      return formatMs(run.ms);
  }
}

/** `1e7` for powers of ten (and 5e6 style multiples), the plain number otherwise. */
export function rowsLabel(rows: number): string {
  const exponent = Math.floor(Math.log10(rows));
  const mantissa = rows / 10 ** exponent;
  return Number.isInteger(mantissa) && exponent >= 3 ? `${mantissa}e${exponent}` : String(rows);
}

export function formatTable(record: BenchRecord): string {
  const engines = record.engines.filter((e) => !e.unavailable);
  const reference = record.engines.find((e) => e.name === 'duckdb');
  const width = 20;
  const lines: string[] = [];
  const head1 = ['question'.padEnd(34), ...engines.map((e) => e.name.padStart(width + 2))].join('');
  const head2 = [''.padEnd(34), ...engines.map(() => `${'run 1'.padStart(8)}${'run 2'.padStart(8)}${'×duck'.padStart(6)}`.padStart(width + 2))].join('');
  lines.push(head1, head2);
  const ids = reference?.queries.map((q) => q.id) ?? engines[0]?.queries.map((q) => q.id) ?? [];
  for (const id of ids) {
    const question = reference?.queries.find((q) => q.id === id)?.question ?? '';
    const duckBest = bestMs(reference?.queries.find((q) => q.id === id));
    const cells = engines.map((e) => {
      const q = e.queries.find((x) => x.id === id);
      const best = bestMs(q);
      const ratio = best !== null && duckBest !== null && duckBest > 0 ? (best / duckBest).toFixed(best / duckBest < 10 ? 2 : 0) : '-';
      return `${runCell(q?.runs[0]).padStart(8)}${runCell(q?.runs[1]).padStart(8)}${ratio.padStart(6)}`.padStart(width + 2);
    });
    lines.push([`${id} ${question}`.slice(0, 33).padEnd(34), ...cells].join(''));
  }
  lines.push(['load (ms)'.padEnd(34), ...engines.map((e) => (e.loadMs === undefined ? '-' : formatMs(e.loadMs)).padStart(width + 2))].join(''));
  lines.push('times in ms; ×duck = best of the two runs / DuckDB\'s best; "!" = answer disagreed with DuckDB\'s; skip = not run');
  for (const e of record.engines) {
    const load = e.loadAverage ? `; load average ${e.loadAverage.before.toFixed(1)} → ${e.loadAverage.after?.toFixed(1) ?? '?'}` : '';
    lines.push(`  ${e.name}: ${e.unavailable ? `unavailable (${e.unavailable})` : `${e.label}${load}`}`);
  }
  return lines.join('\n');
}

const COLORS: Readonly<Record<EngineName, string>> = {
  duckdb: '#f0b400',
  'gpuframe-cpu': '#2b6cb0',
  'gpuframe-webgpu': '#38a169',
  arquero: '#c05621',
};

function escapeXml(text: string): string {
  return text.replace(/[<>&"]/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;' })[c]!);
}

/** Grouped bars, one group per question and one bar per engine (best of two runs), on a log scale. */
export function svgChart(record: BenchRecord): string {
  const engines = record.engines.filter((e) => !e.unavailable);
  const ids = (record.engines.find((e) => e.name === 'duckdb') ?? engines[0])?.queries.map((q) => q.id) ?? [];
  const times = engines.flatMap((e) => e.queries.map(bestMs)).filter((t): t is number => t !== null && t > 0);
  const lowExp = Math.floor(Math.log10(times.length > 0 ? Math.min(...times) : 1));
  const highExp = Math.max(lowExp + 1, Math.ceil(Math.log10(times.length > 0 ? Math.max(...times) : 10)));
  const [low, high] = [10 ** lowExp, 10 ** highExp];
  const [left, top, plotW, plotH] = [70, 60, Math.max(780, ids.length * (engines.length * 14 + 24)), 320];
  const y = (ms: number): number => top + plotH - ((Math.log10(ms) - Math.log10(low)) / (Math.log10(high) - Math.log10(low))) * plotH;
  const groupW = plotW / Math.max(1, ids.length);
  const barW = Math.min(18, (groupW - 16) / Math.max(1, engines.length));
  const out: string[] = [];
  const width = left + plotW + 20;
  const height = top + plotH + 70;
  out.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="sans-serif" font-size="12">`);
  out.push(`<rect width="100%" height="100%" fill="white"/>`);
  out.push(
    `<text x="${left}" y="22" font-size="15" font-weight="bold">${escapeXml(`db-benchmark group-by, N = ${rowsLabel(record.rows)}, K = ${record.k}: best of two runs (ms, log scale)`)}</text>`,
  );
  out.push(
    `<text x="${left}" y="40" fill="#555">${escapeXml(`${String(record.host['hostname'])}, ${String(record.host['cores'])} cores, ${String(record.host['cpu'])}; ${record.date}`)}</text>`,
  );
  for (let exponent = lowExp; exponent <= highExp; exponent++) {
    const decade = 10 ** exponent;
    const yy = y(decade).toFixed(1);
    out.push(`<line x1="${left}" x2="${left + plotW}" y1="${yy}" y2="${yy}" stroke="#ddd"/>`);
    out.push(`<text x="${left - 6}" y="${yy}" text-anchor="end" dominant-baseline="middle">${decade >= 1000 ? `${decade / 1000} s` : `${decade} ms`}</text>`);
  }
  ids.forEach((id, g) => {
    const x0 = left + g * groupW + (groupW - barW * engines.length) / 2;
    engines.forEach((e, k) => {
      const q = e.queries.find((x) => x.id === id);
      const best = bestMs(q);
      if (best === null || best <= 0) {
        // No timed run (skipped or failed to run): say so where the bar would stand.
        if (q)
          out.push(
            `<text x="${(x0 + k * barW + barW / 2).toFixed(1)}" y="${top + plotH - 4}" font-size="9" text-anchor="start" fill="${COLORS[e.name]}" transform="rotate(-90 ${(x0 + k * barW + barW / 2).toFixed(1)} ${top + plotH - 4})">${q.runs.some((r) => r.check === 'error') ? 'error' : 'skipped'}</text>`,
          );
        return;
      }
      const failed = q?.runs.some((r) => r.check === 'failed' || r.check === 'error');
      const yy = y(best);
      out.push(
        `<rect x="${(x0 + k * barW).toFixed(1)}" y="${yy.toFixed(1)}" width="${(barW - 1).toFixed(1)}" height="${(top + plotH - yy).toFixed(1)}" fill="${COLORS[e.name]}"${failed ? ' stroke="red" stroke-width="2"' : ''}><title>${escapeXml(`${e.name} ${id}: ${formatMs(best)} ms`)}</title></rect>`,
      );
    });
    out.push(`<text x="${(left + g * groupW + groupW / 2).toFixed(1)}" y="${top + plotH + 16}" text-anchor="middle">${id}</text>`);
  });
  out.push(`<line x1="${left}" x2="${left}" y1="${top}" y2="${top + plotH}" stroke="#333"/>`);
  engines.forEach((e, k) => {
    const x = left + k * 190;
    out.push(`<rect x="${x}" y="${top + plotH + 34}" width="12" height="12" fill="${COLORS[e.name]}"/>`);
    out.push(`<text x="${x + 16}" y="${top + plotH + 44}">${escapeXml(e.name)}</text>`);
  });
  out.push('</svg>');
  return out.join('\n');
}
