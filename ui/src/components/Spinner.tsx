interface Props {
  size?: 'sm' | 'md' | 'lg';
  /** Accessible label; omit when the surrounding text already says "loading". */
  label?: string;
}

export function Spinner({ size = 'sm', label }: Props) {
  return (
    <span
      class={`spinner spinner-${size}`}
      role={label ? 'status' : undefined}
      aria-label={label}
      aria-hidden={label ? undefined : 'true'}
    />
  );
}
