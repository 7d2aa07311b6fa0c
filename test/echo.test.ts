// truncateForMessage and listForMessage: what an error message may repeat of a caller's input. Checked
// against the definition (short text unchanged; long text keeps its head and says its length) on random
// strings, and for the bound that matters: the result's size does not grow with the input.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { listForMessage, MAX_ECHOED_CHARS, MAX_ECHOED_NAMES, truncateForMessage } from '../src/echo.js';

describe('truncateForMessage', () => {
  it('keeps text up to the cap and cuts longer text to its head, an ellipsis and its length (property)', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 400 }), fc.integer({ min: 1, max: 200 }), (text, max) => {
        const out = truncateForMessage(text, max);
        if (text.length <= max) {
          assert.equal(out, text);
          return;
        }
        assert.equal(out, `${text.slice(0, max)}… (${text.length} characters)`);
      }),
    );
  });

  it('a megabyte name comes out at the default cap plus a short suffix', () => {
    const out = truncateForMessage('n'.repeat(1 << 20));
    assert.equal(out, `${'n'.repeat(MAX_ECHOED_CHARS)}… (1048576 characters)`);
  });
});

describe('listForMessage', () => {
  it('lists at most MAX_ECHOED_NAMES names, each quoted and truncated, then how many more (property)', () => {
    fc.assert(
      fc.property(fc.array(fc.string({ maxLength: 300 }), { maxLength: 40 }), (names) => {
        const out = listForMessage(names);
        const shown = names
          .slice(0, MAX_ECHOED_NAMES)
          .map((n) => `'${truncateForMessage(n)}'`)
          .join(', ');
        assert.equal(out, names.length > MAX_ECHOED_NAMES ? `${shown} and ${names.length - MAX_ECHOED_NAMES} more` : shown);
        assert.ok(out.length <= MAX_ECHOED_NAMES * (MAX_ECHOED_CHARS + 30) + 20);
      }),
    );
  });
});
