// The connection form's values and their validation: a field's error shows once
// it was left (blurred) or the form submitted; submit validates the latest
// values, focuses the first wrong field or saves, and keeps the backend's error.
import { useMemo, useRef, useState } from 'preact/hooks';
import { api, toAppError } from '../../../api/client';
import type { AppError, Connection } from '../../../api/types';
import { describedBy } from '../../../components/Field';
import { useT } from '../../../i18n';
import { toInput, validateForm, type ConnectionForm as FormState, type FieldName } from '../validate';
import { FIELD_IDS, FIELD_ORDER, msg } from './fields';

export function useConnectionForm(initial: FormState, otherNames: string[], onSaved: (c: Connection) => void) {
  const t = useT();
  const [form, setFormState] = useState<FormState>(initial);
  // The latest values, also between an input event and the re-render it causes
  // (fast automation can type and click "Save" within one task).
  const latestRef = useRef<FormState>(initial);
  const setForm = (next: (f: FormState) => FormState) => {
    latestRef.current = next(latestRef.current);
    setFormState(latestRef.current);
  };
  const [touched, setTouched] = useState<Set<FieldName>>(new Set());
  const [submitted, setSubmitted] = useState(false);
  const [saving, setSaving] = useState(false);
  const [serverError, setServerError] = useState<AppError | null>(null);

  const errors = useMemo(() => validateForm(form, otherNames), [form, otherNames]);
  const shown = (f: FieldName) => (submitted || touched.has(f) ? msg(t, errors[f]) : null);

  const set = <K extends keyof FormState>(key: K, value: FormState[K]) => {
    setForm((f) => ({ ...f, [key]: value }));
    setServerError(null);
  };
  const touch = (f: FieldName) => () => setTouched((s) => (s.has(f) ? s : new Set(s).add(f)));

  /** Props shared by the text inputs: id/testid, value, change, blur, a11y. */
  const text = (f: FieldName & keyof FormState) => ({
    id: FIELD_IDS[f],
    'data-testid': FIELD_IDS[f],
    value: form[f] as string,
    onInput: (e: Event) => set(f, (e.currentTarget as HTMLInputElement).value as never),
    onBlur: touch(f),
    'aria-invalid': shown(f) ? ('true' as const) : undefined,
    'aria-describedby': describedBy(FIELD_IDS[f]),
    class: 'input',
    autoComplete: 'off',
    spellcheck: false,
  });

  const submit = async () => {
    setSubmitted(true);
    setServerError(null);
    const current = latestRef.current;
    const problems = validateForm(current, otherNames);
    const first = FIELD_ORDER.find((f) => problems[f]);
    if (first) {
      document.getElementById(FIELD_IDS[first])?.focus();
      return;
    }
    setSaving(true);
    try {
      onSaved(await api.connectionSave(toInput(current)));
    } catch (e) {
      setServerError(toAppError(e));
    } finally {
      setSaving(false);
    }
  };

  return {
    form,
    setForm,
    /** The latest values (see latestRef), for handlers that read a field. */
    latest: () => latestRef.current,
    errors,
    shown,
    set,
    text,
    /** Marks `f` as left, so its error shows. */
    touchNow: (f: FieldName) => setTouched((s) => new Set(s).add(f)),
    submitted,
    saving,
    serverError,
    submit,
    firstError: FIELD_ORDER.find((f) => errors[f]),
  };
}

export type ConnectionFormState = ReturnType<typeof useConnectionForm>;
