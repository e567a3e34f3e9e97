// A Python 3 with pyca/cryptography: Debian's /usr/bin/python3 (python3-cryptography, which CI
// installs) first, then whatever `python3` is on PATH.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export function pythonWithCryptography(): string | undefined {
  for (const candidate of ['/usr/bin/python3', 'python3']) {
    const probe = spawnSync(candidate, ['-c', 'import cryptography'], { stdio: 'ignore' });
    if (probe.status === 0) return candidate;
  }
  return undefined;
}

const PYTHON_SRC = fileURLToPath(new URL('../../python/src', import.meta.url));

/**
 * How to run the Python package (modelsign_verify): the installed wheel's interpreter when
 * MODELSIGN_PY_VERIFY names its console script (.ci/run), else a python3 with pyca/cryptography
 * and the source tree on PYTHONPATH. `module(...)` runs `python -m modelsign_verify ...`.
 */
export function pythonPackage(): { python: string; env: Record<string, string>; module: (...args: string[]) => string[] } | undefined {
  const installed = process.env.MODELSIGN_PY_VERIFY;
  const python = installed ? `${installed.slice(0, installed.lastIndexOf('/'))}/python` : pythonWithCryptography();
  if (!python) return undefined;
  return {
    python,
    env: { PYTHONDONTWRITEBYTECODE: '1', ...(installed ? {} : { PYTHONPATH: PYTHON_SRC }) },
    module: (...args: string[]) => ['-m', 'modelsign_verify', ...args],
  };
}
