import { z } from "zod";
import type { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import { McpSendMessage } from "../../api/documents";
import { MESSAGE_LIMITS } from "../../api/limits";
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
      description: "Write to the operator holding a task (questions, clarifications). Needs an accepted task; closed 7 days after it ends.",
      inputSchema: { task_id: TaskId, text: z.string().min(1).max(MESSAGE_LIMITS.textChars) },
      outputSchema: MessageToolView,
      annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: false, openWorldHint: true },
    },
    async ({ task_id, text }, { signal }) => {
      const { sendMessage } = await run(backend, McpSendMessage, { taskId: task_id, input: { text } }, signal);
      return success(presentMessage(sendMessage));
    },
  );
}
