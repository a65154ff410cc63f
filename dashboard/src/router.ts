/** The route of the page, followed as the address's hash changes. */
import { useEffect, useState } from "preact/hooks";
import { parseRoute, type Route } from "./route.js";

export { href, parseRoute, type Route } from "./route.js";

export function useRoute(): Route {
  const [route, setRoute] = useState(() => parseRoute(location.hash));
  useEffect(() => {
    const onChange = () => setRoute(parseRoute(location.hash));
    addEventListener("hashchange", onChange);
    return () => removeEventListener("hashchange", onChange);
  }, []);
  return route;
}
