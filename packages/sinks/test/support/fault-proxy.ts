import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage, request as httpRequest, type ServerResponse } from 'node:http';
import { after } from 'node:test';

/**
 * A small HTTP proxy in front of moto_server that injects faults per request, so the sinks are
 * tested with the real AWS SDK clients against real (emulated) services, never against mocks.
 */

export type FaultKind =
  /** Firehose: 400 ThrottlingException. S3: 503 SlowDown. Nothing reaches moto. */
  | 'throttle'
  /** Firehose: 503 ServiceUnavailableException. S3: 503 ServiceUnavailable. Nothing reaches moto. */
  | 'unavailable'
  /** A plain 500 (InternalFailure / InternalError). Nothing reaches moto. */
  | 'error500'
  /** PutRecordBatch only: forward only some records, answer FailedPutCount + per-record errors for the rest. */
  | 'partial'
  /** Forward the request (moto stores it), then never answer: the client times out and resends. */
  | 'timeout-after-write';

export interface Fault {
  kind: FaultKind;
  /** 'partial': which record indices of the request fail (default: every odd index). */
  failRecord?: (index: number) => boolean;
}

export interface ProxiedRequest {
  /** 1-based order of arrival at the proxy. */
  readonly n: number;
  readonly service: 'firehose' | 's3';
  /** Firehose: the X-Amz-Target operation (PutRecordBatch, ...). S3: METHOD /bucket/key?query. */
  readonly operation: string;
  readonly method: string;
  readonly path: string;
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  readonly body: Buffer;
  /** PutRecordBatch: the decoded Data of each record, in request order. */
  readonly records?: readonly Buffer[];
  /** The fault injected into this request, if any. */
  fault?: FaultKind;
  /** HTTP status the client got (undefined when it was left hanging). */
  status?: number;
  /** PutRecordBatch: indices (into records) that moto actually stored. */
  stored?: readonly number[];
}

/** Decides the fault for a request; return undefined to pass it through untouched. */
export type FaultScript = (req: ProxiedRequest) => Fault | undefined;

export interface FaultProxy {
  /** http://127.0.0.1:<port>: give this to the SDK client as its endpoint. */
  readonly endpoint: string;
  /** Every request seen, in order of arrival. */
  readonly requests: ProxiedRequest[];
  /** Replaces the fault script. */
  setScript(script: FaultScript | undefined): void;
  /** Injects `fault` into the next `times` requests for which `match` holds (default: any request). */
  failNext(match: (req: ProxiedRequest) => boolean, fault: Fault | FaultKind, times?: number): void;
  close(): Promise<void>;
}

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

interface Upstream {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

function forward(target: URL, method: string, path: string, headers: IncomingMessage['headers'], body: Buffer): Promise<Upstream> {
  return new Promise((resolve, reject) => {
    const h: Record<string, string | string[] | undefined> = { ...headers, host: target.host, 'content-length': String(body.length) };
    // The body may have been rewritten (partial faults): a chunked framing header would no longer fit.
    delete h['transfer-encoding'];
    const up = httpRequest({ host: target.hostname, port: target.port, method, path, headers: h }, (res) => {
      readBody(res).then((b) => resolve({ status: res.statusCode ?? 502, headers: res.headers, body: b }), reject);
    });
    up.on('error', reject);
    up.end(body);
  });
}

function sendJsonError(res: ServerResponse, status: number, type: string, message: string): void {
  const body = JSON.stringify({ __type: type, message });
  res.writeHead(status, { 'content-type': 'application/x-amz-json-1.1', 'x-amzn-errortype': type, 'x-amzn-requestid': `fault-${Date.now()}`, 'content-length': Buffer.byteLength(body) });
  res.end(body);
}

function sendXmlError(res: ServerResponse, status: number, code: string, message: string): void {
  const body = `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${code}</Code><Message>${message}</Message><RequestId>fault</RequestId><HostId>fault</HostId></Error>`;
  res.writeHead(status, { 'content-type': 'application/xml', 'x-amz-request-id': 'fault', 'content-length': Buffer.byteLength(body) });
  res.end(body);
}

function relay(res: ServerResponse, up: Upstream, method: string): void {
  const headers = { ...up.headers };
  delete headers['transfer-encoding'];
  delete headers.connection;
  // A HEAD answer has no body but its Content-Length is the object's size: keep it.
  if (method !== 'HEAD') headers['content-length'] = String(up.body.length);
  res.writeHead(up.status, headers);
  res.end(up.body);
}

interface BatchRequest {
  DeliveryStreamName: string;
  Records: { Data: string }[];
}

/** Starts the proxy on a free loopback port; it is closed when the test file ends. */
export async function startFaultProxy(upstream: string): Promise<FaultProxy> {
  const target = new URL(upstream);
  const requests: ProxiedRequest[] = [];
  const hanging = new Set<ServerResponse>();
  let script: FaultScript | undefined;
  const queued: { match: (r: ProxiedRequest) => boolean; fault: Fault; left: number }[] = [];

  const decide = (req: ProxiedRequest): Fault | undefined => {
    const q = queued.find((e) => e.left > 0 && e.match(req));
    if (q) {
      q.left -= 1;
      return q.fault;
    }
    return script?.(req);
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const body = await readBody(req);
    const path = req.url ?? '/';
    const method = req.method ?? 'GET';
    const amzTarget = req.headers['x-amz-target'];
    const service = typeof amzTarget === 'string' && amzTarget.startsWith('Firehose_') ? 'firehose' : 's3';
    const operation = service === 'firehose' ? String(amzTarget).split('.')[1] ?? '' : `${method} ${path}`;
    let batch: BatchRequest | undefined;
    if (operation === 'PutRecordBatch') batch = JSON.parse(body.toString('utf8')) as BatchRequest;
    const info: ProxiedRequest = {
      n: requests.length + 1,
      service,
      operation,
      method,
      path,
      headers: req.headers,
      body,
      ...(batch ? { records: batch.Records.map((r) => Buffer.from(r.Data, 'base64')) } : {}),
    };
    requests.push(info);
    const fault = decide(info);
    if (fault) info.fault = fault.kind;

    switch (fault?.kind) {
      case 'throttle':
        info.status = service === 'firehose' ? 400 : 503;
        if (service === 'firehose') sendJsonError(res, 400, 'ThrottlingException', 'Rate exceeded for stream (injected)');
        else sendXmlError(res, 503, 'SlowDown', 'Please reduce your request rate. (injected)');
        return;
      case 'unavailable':
        info.status = 503;
        if (service === 'firehose') sendJsonError(res, 503, 'ServiceUnavailableException', 'Slow down. (injected)');
        else sendXmlError(res, 503, 'ServiceUnavailable', 'Service is unable to handle request. (injected)');
        return;
      case 'error500':
        info.status = 500;
        if (service === 'firehose') sendJsonError(res, 500, 'InternalFailure', 'We encountered an internal error. (injected)');
        else sendXmlError(res, 500, 'InternalError', 'We encountered an internal error. Please try again. (injected)');
        return;
      case 'partial': {
        if (!batch) throw new Error(`a partial fault only applies to PutRecordBatch, not ${operation}`);
        const failRecord = fault.failRecord ?? ((i: number) => i % 2 === 1);
        const keep = batch.Records.map((_, i) => i).filter((i) => !failRecord(i));
        // moto stores exactly the records we forward: the test's view of what arrived stays honest.
        const forwarded = Buffer.from(JSON.stringify({ ...batch, Records: keep.map((i) => batch.Records[i]) }));
        let ids: { RecordId?: string }[] = [];
        if (keep.length > 0) {
          const up = await forward(target, method, path, req.headers, forwarded);
          if (up.status !== 200) {
            info.status = up.status;
            relay(res, up, method);
            return;
          }
          ids = (JSON.parse(up.body.toString('utf8')) as { RequestResponses: { RecordId?: string }[] }).RequestResponses;
        }
        info.stored = keep;
        let k = 0;
        const responses = batch.Records.map((_, i) =>
          failRecord(i) ? { ErrorCode: 'ServiceUnavailableException', ErrorMessage: 'Slow down. (injected)' } : { RecordId: ids[k++]?.RecordId ?? 'fault' },
        );
        const out = JSON.stringify({ FailedPutCount: batch.Records.length - keep.length, Encrypted: false, RequestResponses: responses });
        info.status = 200;
        res.writeHead(200, { 'content-type': 'application/x-amz-json-1.1', 'x-amzn-requestid': 'fault-partial', 'content-length': Buffer.byteLength(out) });
        res.end(out);
        return;
      }
      case 'timeout-after-write': {
        const up = await forward(target, method, path, req.headers, body);
        if (batch && up.status === 200) info.stored = batch.Records.map((_, i) => i);
        // The write happened; the answer never comes. The client's request timeout fires and it resends.
        hanging.add(res);
        res.on('close', () => hanging.delete(res));
        return;
      }
      default: {
        const up = await forward(target, method, path, req.headers, body);
        info.status = up.status;
        if (batch && up.status === 200) info.stored = batch.Records.map((_, i) => i);
        relay(res, up, method);
      }
    }
  };

  const server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      if (!res.headersSent) sendJsonError(res, 502, 'ProxyError', (err as Error).message);
      else res.destroy();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const addr = server.address();
  const port = typeof addr === 'object' && addr ? addr.port : 0;

  let closed = false;
  const close = async (): Promise<void> => {
    if (closed) return;
    closed = true;
    for (const r of hanging) r.destroy();
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  };
  after(close);

  return {
    endpoint: `http://127.0.0.1:${port}`,
    requests,
    setScript(s) {
      script = s;
    },
    failNext(match, fault, times = 1) {
      queued.push({ match, fault: typeof fault === 'string' ? { kind: fault } : fault, left: times });
    },
    close,
  };
}

/** SHA-256 of a body, base64: what x-amz-checksum-sha256 must say. */
export function sha256Base64(body: Buffer): string {
  return createHash('sha256').update(body).digest('base64');
}
