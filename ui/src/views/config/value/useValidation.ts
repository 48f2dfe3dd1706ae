// Live validation of the draft: structured formats (JSON, YAML, TOML) are
// checked by config_validate 250 ms after the typing stops; plain text is always
// valid; binary values are not edited, so not checked.
import { useEffect, useState } from 'preact/hooks';
import { api, toAppError } from '../../../api/client';
import type { Validation, ValueFormat } from '../../../api/types';

export const STRUCTURED: ValueFormat[] = ['json', 'yaml', 'toml'];

export function useValidation(draft: string, format: ValueFormat, binary: boolean) {
  const [validation, setValidation] = useState<(Validation & { value: string }) | null>(null);

  useEffect(() => {
    if (binary) return;
    if (!STRUCTURED.includes(format)) {
      setValidation({ format, ok: true, error: null, line: null, column: null, value: draft });
      return;
    }
    let cancelled = false;
    const id = setTimeout(() => {
      api.configValidate(draft, format).then(
        (v) => !cancelled && setValidation({ ...v, value: draft }),
        (e) => !cancelled && setValidation({ format, ok: false, error: toAppError(e).message, line: null, column: null, value: draft }),
      );
    }, 250);
    return () => {
      cancelled = true;
      clearTimeout(id);
    };
  }, [draft, format, binary]);

  /** The validation is of this very draft and format. */
  const fresh = validation !== null && validation.value === draft && validation.format === format;
  const structured = STRUCTURED.includes(format);
  return {
    validation,
    fresh,
    structured,
    /** The result to show: null while the draft is still being checked. */
    current: fresh ? validation : null,
    valid: !structured || (fresh && validation.ok),
  };
}

export type ValidationState = ReturnType<typeof useValidation>;
