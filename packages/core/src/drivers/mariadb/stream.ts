import { AsyncResource } from 'node:async_hooks';
import { PassThrough, type Readable } from 'node:stream';
import type { StatementHandle, StatementRecorder } from '../../capture/types.js';
import { QuerytrailError } from '../../errors.js';
import { addRows, fail, paramsOf, succeed } from './begin.js';
import type { ConnectionState } from './state.js';
import type { AnyFunction, PromiseConnectionLike } from './types.js';
import { warnRecorderFailure } from './warn.js';

/**
 * Counts rows as the driver pushes them and records at 'end' / 'error' / 'close' (a stream destroyed
 * early still gives one event). Intercepting push and emit (instead of adding listeners) leaves the
 * stream's flowing mode and its unhandled-error behaviour as the driver made them.
 */
function track(stream: Readable, handle: StatementHandle | undefined): void {
  if (!handle) return;
  let rows = 0;
  const push = stream.push;
  stream.push = function (this: Readable, chunk: unknown, encoding?: BufferEncoding): boolean {
    if (chunk !== null) {
      rows++;
      addRows(handle, 1);
    }
    return push.call(this, chunk, encoding);
  };
  const emit = stream.emit;
  stream.emit = function (this: Readable, event: string | symbol, ...args: unknown[]): boolean {
    if (event === 'error') fail(handle, args[0]);
    else if (event === 'end' || event === 'close') succeed(handle, { rowsReturned: rows });
    return emit.call(this, event, ...args);
  } as Readable['emit'];
}

function textOf(sql: unknown, values: unknown): { text: unknown; values: unknown } {
  if (typeof sql === 'object' && sql !== null) {
    const o = sql as { sql?: unknown; values?: unknown };
    return { text: o.sql, values: o.values ? o.values : values };
  }
  return { text: sql, values };
}

/**
 * connection.queryStream(sql, values): the promise connection builds the Stream command itself (it
 * never goes through the base query), so it is wrapped on the connection object. Blocked: a
 * stream that errors. Held back (sync delivery): a stand-in stream the real one is piped into.
 */
export function patchQueryStream(recorder: StatementRecorder, cp: PromiseConnectionLike, state: ConnectionState, base: object): void {
  const original = cp.queryStream as AnyFunction;
  cp.queryStream = function queryStream(this: PromiseConnectionLike, sql: unknown, values?: unknown): unknown {
    const s = textOf(sql, values);
    let handle: StatementHandle | undefined;
    const start = { text: typeof s.text === 'string' ? s.text : undefined, params: paramsOf(s.values), db: state.db, connection: base };
    try {
      handle = recorder.begin(start);
    } catch (error) {
      if (!(error instanceof QuerytrailError)) warnRecorderFailure(error, { recorder, operation: 'recorder.begin', start, unaudited: true });
      else {
        const refused = new PassThrough({ objectMode: true });
        const scope = new AsyncResource('querytrail.mariadb.queryStream');
        process.nextTick(() => scope.runInAsyncScope(() => refused.destroy(error)));
        return refused;
      }
    }
    const ready = handle?.ready;
    if (ready === undefined && state.sends.empty) {
      const stream = original.call(this, sql, values) as Readable;
      track(stream, handle);
      return stream;
    }
    const standIn = new PassThrough({ objectMode: true });
    state.sends.add(
      ready,
      () => {
        const stream = original.call(this, sql, values) as Readable;
        track(stream, handle);
        stream.on('fields', (meta: unknown) => standIn.emit('fields', meta));
        stream.on('error', (error: unknown) => standIn.destroy(error as Error));
        stream.pipe(standIn);
      },
      (error) => standIn.destroy(error as Error),
    );
    return standIn;
  };
}
