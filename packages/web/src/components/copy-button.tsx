/** Copies a snippet (a packctl command, a profile's YAML, an OCI reference); shows it too. */
import { useState } from 'preact/hooks';

export function CopyButton({ label, text }: { label: string; text: string }) {
  const [copied, setCopied] = useState<'yes' | 'failed' | null>(null);
  return (
    <div class="copy">
      <span class="copy-label">{label}</span>
      <pre>
        <code>{text}</code>
      </pre>
      <button
        type="button"
        aria-label={`Copy ${label}`}
        onClick={() => {
          navigator.clipboard.writeText(text).then(
            () => setCopied('yes'),
            () => setCopied('failed'),
          );
        }}
      >
        {copied === 'yes' ? 'Copied' : copied === 'failed' ? 'Select and copy' : 'Copy'}
      </button>
    </div>
  );
}
