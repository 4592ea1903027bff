// Where the platform stack's alert policies send their notifications.
import { z } from "zod";

const notificationChannel = z.string().regex(/^projects\/[a-z][a-z0-9-]{4,28}[a-z0-9]\/notificationChannels\/[0-9]+$/, {
  error: "not a notification channel id; write projects/<project>/notificationChannels/<number> (gcloud beta monitoring channels list)",
});

export const alerting = z
  .strictObject({
    notificationChannels: z
      .array(notificationChannel)
      .default([])
      .refine((ids) => new Set(ids).size === ids.length, { error: "lists a notification channel twice; list each once" })
      .describe(
        "Cloud Monitoring notification channels (projects/<project>/notificationChannels/<number>) every alert policy notifies (default none: the policies open incidents in the console only).",
      ),
  })
  .describe("The alert policies the platform stack declares (docs/operator-guide.md#alerts).");
