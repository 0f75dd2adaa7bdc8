/** loadPolicy(path): a YAML (.yaml, .yml) or JSON (.json) file, validated and compiled. */
import { readFileSync } from 'node:fs';
import { extname } from 'node:path';
import { parseDocument } from 'yaml';
import { type CompiledPolicy, type DefinePolicyOptions, definePolicy, PolicyConfigError } from './compile.js';
import type { PolicyInput } from './schema.js';

/** Fields a file cannot hold (functions), given in code next to the file. */
export type PolicyCodeExtras = Pick<PolicyInput, 'onAlert'> & { approvals?: { resolve?: NonNullable<PolicyInput['approvals']>['resolve'] } };

/**
 * Reads, parses, validates and compiles a policy file. Every error names the file and the path of the
 * bad field (`policy.yaml: windows[1].timezone: unknown time zone "Europe/Berlim"`); YAML syntax
 * errors give line and column. `extras` adds what only code can give (onAlert hooks, approvals.resolve).
 */
export function loadPolicy(path: string, extras: PolicyCodeExtras = {}, options: Omit<DefinePolicyOptions, 'file'> = {}): CompiledPolicy {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new PolicyConfigError([{ path: '(file)', message: `cannot read: ${err instanceof Error ? err.message : String(err)}` }], path);
  }
  const ext = extname(path).toLowerCase();
  let data: unknown;
  if (ext === '.json') {
    try {
      data = JSON.parse(text);
    } catch (err) {
      throw new PolicyConfigError([{ path: '(file)', message: `invalid JSON: ${err instanceof Error ? err.message : String(err)}` }], path);
    }
  } else if (ext === '.yaml' || ext === '.yml') {
    const doc = parseDocument(text, { prettyErrors: true, uniqueKeys: true });
    if (doc.errors.length > 0) {
      throw new PolicyConfigError(
        doc.errors.map((e) => {
          const pos = e.linePos?.[0];
          return { path: pos ? `line ${pos.line}, column ${pos.col}` : '(file)', message: `invalid YAML: ${(e.message.split('\n')[0] ?? '').replace(/ at line \d+, column \d+:?$/, '')}` };
        }),
        path,
      );
    }
    data = doc.toJS();
  } else {
    throw new PolicyConfigError([{ path: '(file)', message: `unknown extension ${JSON.stringify(ext)} (.yaml, .yml or .json)` }], path);
  }
  if (typeof data !== 'object' || data === null || Array.isArray(data)) {
    throw new PolicyConfigError([{ path: '(policy)', message: 'expected a mapping at the top level' }], path);
  }
  const input = { ...(data as Record<string, unknown>) };
  if (extras.onAlert !== undefined) input.onAlert = extras.onAlert;
  if (extras.approvals?.resolve !== undefined) {
    const ap = input.approvals;
    input.approvals = { ...(typeof ap === 'object' && ap !== null ? ap : {}), resolve: extras.approvals.resolve };
  }
  return definePolicy(input as PolicyInput, { ...options, file: path });
}
