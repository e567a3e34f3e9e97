// The verify page's witness requirement: a C2SP tlog-policy the user pastes (never one the server
// supplies: the server's own verdict cannot protect against the server showing a split view), kept
// in memory for the page's life like pasted keys (trust.ts).
import { parseWitnessPolicy, type WitnessPolicy } from '../core/verifier.ts';
import { el, show } from './dom.ts';
import { problemText } from './api-client.ts';

let required: { policy: WitnessPolicy; summary: string } | undefined;

export function currentWitnessPolicy(): WitnessPolicy | undefined {
  return required?.policy;
}

export function witnessPanel(): HTMLElement {
  const text = el('textarea', { id: 'witness-policy', rows: '5', spellcheck: 'false', 'aria-describedby': 'witness-help' });
  const said = el('p', { id: 'witness-said', role: 'status' }, required ? `Requiring ${required.summary}.` : 'No witness policy: witnesses are not checked.');
  const use = el('button', { type: 'button', id: 'witness-use' }, 'Require this policy');
  const reset = el('button', { type: 'button', class: 'secondary' }, 'No policy');
  use.addEventListener('click', () => {
    try {
      const policy = parseWitnessPolicy(text.value);
      const summary = `quorum ${policy.quorum} of ${policy.witnesses.length} witness${policy.witnesses.length === 1 ? '' : 'es'}`;
      required = { policy, summary };
      show(said, `Requiring ${summary}.`);
    } catch (err) {
      show(said, el('span', { class: 'error' }, problemText(err)));
    }
  });
  reset.addEventListener('click', () => {
    required = undefined;
    show(said, 'No witness policy: witnesses are not checked.');
  });
  return el(
    'details',
    { class: 'trust' },
    el('summary', {}, 'Which witnesses to require'),
    el(
      'p',
      { id: 'witness-help', class: 'hint' },
      'Paste a witness policy (C2SP tlog-policy: witness lines, groups, one quorum) to require that independent witnesses saw the log entry, so that this server cannot have shown you a log it showed no one else. Pick the release\'s model.sig.tlog-proof (or FILE.sig.tlog-proof) with its files when the bundle\'s own checkpoint is older than what the witnesses cosigned.',
    ),
    el('label', { for: 'witness-policy' }, 'Witness policy'),
    text,
    el('div', { class: 'row' }, use, reset),
    said,
  );
}
