// First: a recovery link's token leaves the address bar before anything else runs.
import './link.js';
import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { App, Unavailable } from './App.js';
import { connect } from './auth.js';
import { registerServiceWorker } from './offline.js';
import './styles.css';

const element = document.getElementById('root');
if (!element) throw new Error('index.html has no #root element');
const root = createRoot(element);
registerServiceWorker();

// The client must know the server's mode (session or token) before anything renders.
connect().then(
  () =>
    root.render(
      <StrictMode>
        <App />
      </StrictMode>,
    ),
  (error: unknown) =>
    root.render(
      <StrictMode>
        <Unavailable error={error} onRetry={() => window.location.reload()} />
      </StrictMode>,
    ),
);
