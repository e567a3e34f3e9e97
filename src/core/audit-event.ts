// One sealed event of the audit trail: its place in the hash chain and the hashes that seal it.
export interface AuditEvent {
  seq: number;
  id: string;
  at: Date;
  actor: string;
  action: string;
  target: string;
  details: unknown;
  prevHash: Uint8Array;
  hash: Uint8Array;
}
