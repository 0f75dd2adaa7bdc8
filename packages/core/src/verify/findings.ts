/** What the verifier can say about a journal, in the manner of CloudTrail's validate-logs. */
export type Verdict = 'INVALID' | 'WARN';

export type FindingCode =
  | 'hash_mismatch' // a record's bytes differ from what its successor chained to
  | 'unparseable' // a line that is not a JSON record with integrity fields
  | 'gap' // records missing between two seq numbers
  | 'duplicate' // the same seq twice
  | 'reorder' // seq going backwards
  | 'wrong_chain' // a record whose chain_id differs from its segment's
  | 'not_found' // a segment file missing from a chain
  | 'missing_genesis' // a chain that does not start with chain.genesis at seq 1
  | 'broken_link' // a genesis that names a previous chain whose last record does not match
  | 'torn_line' // bytes after the last newline of a file
  | 'unlinked_restart' // a chain that follows another without linking to it
  | 'unanchored_tail' // records after the last signed checkpoint
  | 'checkpoint_mismatch' // records 1..count do not produce the checkpoint's last hash or Merkle root
  | 'inconsistent_checkpoint' // a checkpoint that does not follow its predecessor (index, prev_checkpoint, count)
  | 'signature_failed' // a checkpoint whose Ed25519 signature does not verify
  | 'unknown_key' // a checkpoint signed by a key the verifier was not given
  | 'key_not_valid' // a checkpoint signed outside its key's validity period
  | 'signatures_not_checked'; // checkpoints present but no public key given

export interface Finding {
  verdict: Verdict;
  code: FindingCode;
  message: string;
  chain_id?: string;
  segment?: string;
  line?: number;
  seq?: number;
}
