import { Component, type ComponentChildren } from 'preact';
import { toAppError } from '../api/client';
import type { AppError } from '../api/types';
import { ErrorState } from './ErrorState';

interface Props {
  children: ComponentChildren;
  /** Changing it clears a caught error (e.g. the current view's name). */
  resetKey?: string;
}

interface State {
  error: AppError | null;
  key?: string;
}

/** Catches a render error of its subtree and shows it instead of a blank screen. */
export class ErrorBoundary extends Component<Props, State> {
  override state: State = { error: null, key: this.props.resetKey };

  static override getDerivedStateFromProps(props: Props, state: State): Partial<State> | null {
    return props.resetKey !== state.key ? { error: null, key: props.resetKey } : null;
  }

  override componentDidCatch(error: unknown) {
    console.error(error);
    this.setState({ error: toAppError(error) });
  }

  override render() {
    if (this.state.error) {
      return <ErrorState error={this.state.error} onRetry={() => this.setState({ error: null })} />;
    }
    return this.props.children;
  }
}
