// The commands that run on clients (release pipelines, model hosts, cron): they need no database
// and are also prebuilt to plain JavaScript (client-main.ts) so they start in a fraction of the time.
import type { Commands } from './dispatch.ts';

export const CLIENT_COMMANDS: Commands = {
  hash: async () => (await import('./hash.ts')).hash,
  scan: async () => (await import('./scan.ts')).scan,
  sign: async () => (await import('./sign.ts')).sign,
  verify: async () => (await import('./verify.ts')).verify,
  audit: async () => (await import('./audit.ts')).audit,
  'log monitor': async () => (await import('./log-monitor.ts')).logMonitor,
  'log mirror': async () => (await import('./log-mirror.ts')).logMirror,
  'trust export': async () => (await import('./trust-export.ts')).trustExport,
  'proof fetch': async () => (await import('./proof-fetch.ts')).proofFetch,
};
