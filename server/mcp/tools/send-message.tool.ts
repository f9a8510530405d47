import { z } from "zod";
import type { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import { McpSendMessage } from "../../api/documents";
import { MESSAGE_LIMITS } from "../../api/limits";
import { ACCEPTED_PHOTO_TYPES } from "../../api/enums";
import { MessageToolView, presentMessage } from "../../api/message";
import type { GraphQLBackend } from "../graphql.backend";
import { TaskId } from "../inputs";
import { run } from "../operation";
import { success } from "../tool-result";

export function registerSendMessageTool(server: McpServer, backend: GraphQLBackend): void {
  server.registerTool(
    "send_message",
    {
      title: "Message the operator",
      description:
        "Write to the operator holding a task (questions, clarifications), with text, photos (e.g. the door to photograph) or both. " +
        "Needs an accepted task; closed 7 days after it ends.",
      inputSchema: {
        task_id: TaskId,
        text: z.string().min(1).max(MESSAGE_LIMITS.textChars).optional().describe("Needed unless photos are sent"),
        photos: z
          .array(
            z.object({
              data: z.string().min(1).describe("The image bytes, base64-encoded"),
              content_type: z.enum(ACCEPTED_PHOTO_TYPES).optional().describe("Checked against the bytes"),
            }),
          )
          .max(MESSAGE_LIMITS.photos)
          .optional()
          .describe(`Up to ${MESSAGE_LIMITS.photos} photos (JPEG, PNG or WebP), checked and stored as proof photos are`),
      },
      outputSchema: MessageToolView,
      annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: false, openWorldHint: true },
    },
    async ({ task_id, text, photos }, { signal }) => {
      const input = { text, photos: photos?.map((photo) => ({ dataBase64: photo.data, contentType: photo.content_type })) };
      const { sendMessage } = await run(backend, McpSendMessage, { taskId: task_id, input }, signal);
      return success(presentMessage(sendMessage));
    },
  );
}
