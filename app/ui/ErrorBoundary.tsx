import { Component, type ErrorInfo, type ReactNode } from 'react';
import { engine, errorText } from '../pipeline/engine';
import { notify } from '../state/store';

/**
 * A render exception inside one pane stays in that pane: the pane shows what went wrong
 * and a Reset button (the engine puts the pane back on its model's defaults, with a fresh
 * runner); the other panes, the source bar and everything the user loaded go on.
 */
export class PaneBoundary extends Component<{ paneKey: number; index: number; children: ReactNode }, { error: Error | null }> {
  override state: { error: Error | null } = { error: null };

  static getDerivedStateFromError(error: Error): { error: Error } {
    return { error };
  }

  override componentDidCatch(error: Error, info: ErrorInfo): void {
    console.error(`Pane ${this.props.index + 1} failed to render`, error, info.componentStack);
    notify('error', `Pane ${this.props.index + 1} could not be drawn (${errorText(error)}); Reset it, the other panes go on.`);
  }

  private reset = (): void => {
    engine.resetPane(this.props.paneKey);
    this.setState({ error: null });
  };

  override render(): ReactNode {
    if (!this.state.error) return this.props.children;
    return (
      <section className="pane pane-failed" data-testid="pane" data-pane-index={this.props.index} data-failed="true">
        <div className="pane-head">
          <span className="pane-title">Pane {this.props.index + 1}</span>
          <span className="status status-error" data-testid="pane-status" data-state="error">
            error
          </span>
        </div>
        <p className="pane-error" role="alert" data-testid="pane-error">
          This pane could not be drawn: {errorText(this.state.error)}
        </p>
        <button className="btn" data-testid="pane-reset" onClick={this.reset}>
          Reset pane
        </button>
      </section>
    );
  }
}

/**
 * One part of the page outside the panes (the comparison table, the source bar, the
 * catalog): a render exception there shows a line in its place with a Try again button,
 * and the panes go on.
 */
export class SectionBoundary extends Component<{ name: string; children: ReactNode }, { error: Error | null }> {
  override state: { error: Error | null } = { error: null };

  static getDerivedStateFromError(error: Error): { error: Error } {
    return { error };
  }

  override componentDidCatch(error: Error, info: ErrorInfo): void {
    console.error(`The ${this.props.name} failed to render`, error, info.componentStack);
  }

  override render(): ReactNode {
    if (!this.state.error) return this.props.children;
    return (
      <div className="section-failed" role="alert" data-testid="section-error">
        The {this.props.name} could not be drawn: {errorText(this.state.error)}{' '}
        <button className="btn small" onClick={() => this.setState({ error: null })}>
          Try again
        </button>
      </div>
    );
  }
}

/**
 * The last line: a render exception outside the panes (source bar, table, dialogs) shows
 * a message with a way back instead of a blank page; the engine (models, panes, source)
 * lives outside React and is kept.
 */
export class AppBoundary extends Component<{ children: ReactNode }, { error: Error | null }> {
  override state: { error: Error | null } = { error: null };

  static getDerivedStateFromError(error: Error): { error: Error } {
    return { error };
  }

  override componentDidCatch(error: Error, info: ErrorInfo): void {
    console.error('The page failed to render', error, info.componentStack);
  }

  override render(): ReactNode {
    if (!this.state.error) return this.props.children;
    return (
      <div className="app-failed" role="alert" data-testid="app-error">
        <p>Something on this page could not be drawn: {errorText(this.state.error)}</p>
        <button className="btn" onClick={() => this.setState({ error: null })}>
          Try again
        </button>{' '}
        <button className="btn" onClick={() => location.reload()}>
          Reload the page
        </button>
      </div>
    );
  }
}

/**
 * A promise rejection or an error nothing caught becomes a notice instead of vanishing
 * into the console (and the app keeps running). Returns a function that removes the handlers.
 */
export function installGlobalErrorHandlers(target: Window = window): () => void {
  const onRejection = (event: PromiseRejectionEvent) => {
    console.error('Unhandled rejection', event.reason);
    notify('error', `Something failed in the background: ${errorText(event.reason)}`);
    event.preventDefault();
  };
  const onError = (event: ErrorEvent) => {
    // Resource load errors (an <img> that failed) have no `error`; those are handled where they happen.
    if (!event.error) return;
    notify('error', `Something failed: ${errorText(event.error)}`);
  };
  target.addEventListener('unhandledrejection', onRejection);
  target.addEventListener('error', onError);
  return () => {
    target.removeEventListener('unhandledrejection', onRejection);
    target.removeEventListener('error', onError);
  };
}
