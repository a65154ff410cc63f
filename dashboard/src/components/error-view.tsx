import type { ErrorData } from "../api.js";
import { formatJson } from "../format.js";

/** A stored error: its type, message, stack, extra fields and validation issues, then each cause in turn. */
export function ErrorView({ error }: { error: ErrorData }) {
  const chain: ErrorData[] = [];
  for (let link: ErrorData | null = error; link && chain.length < 20; link = link.cause) {
    chain.push(link);
  }
  return (
    <div class="error-chain" data-testid="error">
      {chain.map((link, i) => (
        <div class="error" key={i}>
          <div class="error-title">
            {i > 0 && <span class="caused-by">caused by </span>}
            <strong>{link.type}</strong>:{" "}
            {link.message.length > 1000 ? `${link.message.slice(0, 1000)}…` : link.message}
          </div>
          {link.stack && <pre class="stack">{link.stack}</pre>}
          {link.props && Object.keys(link.props).length > 0 && (
            <pre class="json">{formatJson(link.props)}</pre>
          )}
          {link.issues && link.issues.length > 0 && (
            <pre class="json">{formatJson(link.issues)}</pre>
          )}
        </div>
      ))}
    </div>
  );
}
