// Arquero in a worker thread, so that a question running past the benchmark's time limit can be stopped
// (Arquero computes synchronously; only terminating its thread ends it). The main thread's side is
// ArqueroEngine in engines.ts; both speak the messages below.

import { parentPort, workerData } from 'node:worker_threads';
import * as aq from 'arquero';
import { numbersFrom } from './check.js';
import { QUERIES, type QueryId } from './groupby-queries.js';

export interface ArqueroWorkerData {
  /** The Arrow IPC file, decoded by Arquero's own reader. */
  readonly bytes: ArrayBuffer;
}

export type ArqueroRequest = { readonly kind: 'run'; readonly query: QueryId } | { readonly kind: 'answer' };

export type ArqueroResponse =
  | { readonly kind: 'ready' }
  | { readonly kind: 'done' }
  | { readonly kind: 'answer'; readonly rows: number; readonly columns: readonly (readonly [string, Float64Array])[] }
  | { readonly kind: 'error'; readonly message: string };

function serve(port: NonNullable<typeof parentPort>, data: ArqueroWorkerData): void {
  const post = (response: ArqueroResponse, transfer: ArrayBuffer[] = []): void => {
    port.postMessage(response, transfer);
  };
  const table = aq.fromArrow(new Uint8Array(data.bytes));
  let last: typeof table | null = null;
  port.on('message', (request: ArqueroRequest) => {
    try {
      if (request.kind === 'run') {
        const query = QUERIES.find((q) => q.id === request.query);
        if (!query) throw new Error(`unknown question ${request.query}`);
        last = null;
        last = query.arquero(table);
        post({ kind: 'done' });
      } else {
        if (!last) throw new Error('no answer to read: run a question first');
        const result = last;
        const columns = result.columnNames().map((name) => [name, numbersFrom(result.array(name) as ArrayLike<unknown>)] as const);
        post(
          { kind: 'answer', rows: result.numRows(), columns },
          columns.map(([, values]) => values.buffer as ArrayBuffer),
        );
      }
    } catch (error) {
      post({ kind: 'error', message: (error as Error).stack ?? String(error) });
    }
  });
  post({ kind: 'ready' });
}

if (parentPort) serve(parentPort, workerData as ArqueroWorkerData);
