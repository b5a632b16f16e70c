import { z } from 'zod';

// Zod probes for `eval` to compile fast parsers; under the dashboard's strict CSP
// that probe is a logged violation. The renderer validates small forms, so the
// interpreted parser costs nothing that matters.
z.config({ jitless: true });
