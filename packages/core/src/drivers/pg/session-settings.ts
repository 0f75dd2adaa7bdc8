import type { StatementRecorder } from '../../capture/types.js';
import type { PgClientLike } from './types.js';
import { reportRecorderFailure } from './warn.js';

interface ParameterStatus {
  parameterName?: string;
  parameterValue?: string;
}

/**
 * PostgreSQL announces standard_conforming_strings (a GUC_REPORT setting) at startup and whenever it
 * changes, in order with the statements, as a ParameterStatus message. Listening on the client's
 * connection tells the auditor how the server will lex the strings of the next statement. Clients
 * instrumented after they connected learn it at the next change; until then texts with a backslash
 * are analysed both ways. pg-native clients have no such connection object: always both ways.
 */
export function watchStringLexing(recorder: StatementRecorder, client: PgClientLike): void {
  const report = recorder.sessionSetting;
  const con = (client as { connection?: { on?: (event: string, listener: (msg: ParameterStatus) => void) => unknown } }).connection;
  if (report === undefined || typeof con?.on !== 'function') return;
  con.on('parameterStatus', (msg) => {
    if (msg?.parameterName !== 'standard_conforming_strings') return;
    try {
      report.call(recorder, client, 'standard_conforming_strings', msg.parameterValue === 'on');
    } catch (err) {
      reportRecorderFailure(err, 'recorder.sessionSetting');
    }
  });
}
