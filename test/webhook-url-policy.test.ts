/** TASK_WEBHOOK_URL_ALLOWLIST's matching: parsed URLs, not string prefixes. */
import { describe, expect, it } from "vitest";
import { WebhookUrlPolicy } from "../src/webhooks/webhook-url-policy.js";

describe("webhook URL allow-list", () => {
  const policy = new WebhookUrlPolicy(["https://ci.example.com/ph", "http://127.0.0.1:4000/hooks/", "https://status.example.com"]);

  it("admits the same scheme, host and port, at or below the prefix's path", () => {
    for (const url of [
      "https://ci.example.com/ph",
      "https://ci.example.com/ph/",
      "https://ci.example.com/ph/builds?id=1",
      "https://ci.example.com:443/ph/x", // the default port is the same origin
      "http://127.0.0.1:4000/hooks/on-failure",
      "https://status.example.com/",
      "https://status.example.com/anything/at/all",
    ]) expect(policy.allows(url), url).toBe(true);
  });

  it("refuses look-alikes: another host, scheme, port, a longer path segment, a path that climbs out", () => {
    for (const url of [
      "https://ci.example.com.evil.test/ph",
      "https://evil.test/https://ci.example.com/ph",
      "https://user@evil.test/ph",
      "http://ci.example.com/ph",
      "https://ci.example.com:8443/ph",
      "https://ci.example.com/phish",
      "https://ci.example.com/ph/../admin",
      "https://ci.example.com/ph/%2e%2e/admin",
      "http://127.0.0.1:4000/hooksx",
      "http://localhost:4000/hooks/x",
      "not a url",
    ]) expect(policy.allows(url), url).toBe(false);
    expect(policy.refusal()).toBe("not allowed by TASK_WEBHOOK_URL_ALLOWLIST: must be at or below one of https://ci.example.com/ph, http://127.0.0.1:4000/hooks/, https://status.example.com/");
  });

  it("admits any URL when the list is empty", () => {
    expect(new WebhookUrlPolicy([]).allows("http://10.0.0.1/x")).toBe(true);
  });
});
