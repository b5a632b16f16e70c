import './zod-config.ts';
import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { App } from './App.tsx';
import { pickApi } from './bridge/pick-api.ts';
import './styles.css';

const picked = pickApi();
createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <App api={picked.api} onStatus={picked.onStatus} />
  </StrictMode>,
);
