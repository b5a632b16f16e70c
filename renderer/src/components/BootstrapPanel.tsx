import { useEffect, useRef, useState, type KeyboardEvent } from 'react';

/** "Copy bootstrap address" with ready-to-paste client snippets (issue #6). */

type SnippetKind = 'kcat' | 'kafkajs' | 'java';

const SNIPPET_LABELS: Record<SnippetKind, string> = { kcat: 'kcat', kafkajs: 'KafkaJS', java: 'Java' };
const SNIPPET_ORDER: SnippetKind[] = ['kcat', 'kafkajs', 'java'];

export function snippet(kind: SnippetKind, bootstrap: string): string {
  switch (kind) {
    case 'kcat':
      return `# list brokers and topics\nkcat -b ${bootstrap} -L\n\n# consume a topic from the beginning\nkcat -b ${bootstrap} -C -t my-topic -o beginning`;
    case 'kafkajs':
      return `import { Kafka } from 'kafkajs';\n\nconst kafka = new Kafka({\n  clientId: 'my-app',\n  brokers: ['${bootstrap}'],\n});`;
    case 'java':
      return `Properties props = new Properties();\nprops.put("bootstrap.servers", "${bootstrap}");\nprops.put("key.serializer", "org.apache.kafka.common.serialization.StringSerializer");\nprops.put("value.serializer", "org.apache.kafka.common.serialization.StringSerializer");\nProducer<String, String> producer = new KafkaProducer<>(props);`;
  }
}

export type CopyOutcome = 'copied' | 'failed';

export function BootstrapPanel({ bootstrap, copy }: { bootstrap: string; copy: (text: string) => Promise<void> }) {
  const [kind, setKind] = useState<SnippetKind>('kcat');
  const [feedback, setFeedback] = useState<{ what: string; outcome: CopyOutcome } | null>(null);
  const tabs = useRef<(HTMLButtonElement | null)[]>([]);
  const code = snippet(kind, bootstrap);

  // "Copied" is a confirmation, not a state: it fades after a moment.
  useEffect(() => {
    if (!feedback || feedback.outcome !== 'copied') return;
    const timer = setTimeout(() => setFeedback(null), 2500);
    return () => clearTimeout(timer);
  }, [feedback]);

  const doCopy = async (what: string, text: string) => {
    try {
      await copy(text);
      setFeedback({ what, outcome: 'copied' });
    } catch {
      setFeedback({ what, outcome: 'failed' });
    }
  };

  // Arrow keys move between tabs, as in a native tab strip (WAI-ARIA tabs pattern).
  const onTabKey = (event: KeyboardEvent, index: number) => {
    const step = event.key === 'ArrowRight' ? 1 : event.key === 'ArrowLeft' ? -1 : 0;
    if (step === 0) return;
    event.preventDefault();
    const next = (index + step + SNIPPET_ORDER.length) % SNIPPET_ORDER.length;
    setKind(SNIPPET_ORDER[next]);
    tabs.current[next]?.focus();
  };

  return (
    <div className="bootstrap">
      <div className="bootstrap-row">
        <span className="bootstrap-label">Bootstrap address</span>
        <code className="bootstrap-address" data-testid="bootstrap-address">
          {bootstrap}
        </code>
        <button type="button" className="btn" onClick={() => void doCopy('address', bootstrap)}>
          Copy address
        </button>
        <span className="copy-feedback" role="status">
          {feedback?.what === 'address' && (feedback.outcome === 'copied' ? 'Copied' : 'Copy failed: select the address and copy it by hand')}
        </span>
      </div>
      <div className="snippet">
        <div className="snippet-bar">
          <div role="tablist" aria-label="Client snippets" className="tabs">
            {SNIPPET_ORDER.map((k, i) => (
              <button
                key={k}
                ref={(el) => {
                  tabs.current[i] = el;
                }}
                type="button"
                role="tab"
                id={`snippet-tab-${k}`}
                aria-selected={k === kind}
                aria-controls="snippet-panel"
                tabIndex={k === kind ? 0 : -1}
                className="tab"
                onClick={() => setKind(k)}
                onKeyDown={(e) => onTabKey(e, i)}
              >
                {SNIPPET_LABELS[k]}
              </button>
            ))}
          </div>
          <span className="copy-feedback" role="status">
            {feedback?.what === 'snippet' && (feedback.outcome === 'copied' ? 'Copied' : 'Copy failed: select the text and copy it by hand')}
          </span>
          <button type="button" className="btn btn-small" onClick={() => void doCopy('snippet', code)}>
            Copy snippet
          </button>
        </div>
        <pre id="snippet-panel" role="tabpanel" aria-labelledby={`snippet-tab-${kind}`} className="snippet-code" tabIndex={0}>
          {code}
        </pre>
      </div>
    </div>
  );
}
