// @vitest-environment jsdom
// A write whose answer was lost is shown as "outcome unknown", never under
// the caller's "failed" title; other errors keep the caller's title.
import { render } from 'preact';
import { afterEach, expect, it } from 'vitest';
import { ErrorState } from './ErrorState';

afterEach(() => render(null, document.body));

const title = () => document.querySelector('.error-title')?.textContent ?? '';

it('says outcome unknown for a lost answer, whatever the title', () => {
  render(<ErrorState error={{ code: 'outcome_unknown', message: 'read /k back' }} title="The change was not written" />, document.body);
  expect(title()).toMatch(/^Outcome unknown/);
  expect(document.querySelector('.error-code')?.textContent).toBe('outcome_unknown');
});

it('keeps the caller title for other errors', () => {
  render(<ErrorState error={{ code: 'timeout', message: 'etcd did not answer' }} title="The change was not written" />, document.body);
  expect(title()).toBe('The change was not written');
});
