import { render } from 'preact';
import { App } from './app/App';
import { applyTheme } from './app/theme';
import './styles/index.css';

// Start-up milestones, read by the app benchmark (tests/src/bin/bench-app.rs).
performance.mark('opsdeck:script');

async function start() {
  // Dev only: `vite --mode mock` fakes the Tauri backend. In any other mode this
  // condition is the constant `false` and the import is removed from the bundle.
  if (import.meta.env.MODE === 'mock') {
    await import('../dev/mock-backend');
  }
  applyTheme('system'); // until the saved settings arrive
  render(<App mock={import.meta.env.MODE === 'mock'} />, document.getElementById('app')!);
  performance.mark('opsdeck:shell');
}

void start();
