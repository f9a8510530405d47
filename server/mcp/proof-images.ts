import type { ContentBlock } from "@modelcontextprotocol/sdk/types.js";
import type { TaskView } from "./task.view";

/**
 * Raw bytes of images one tool result may carry (base64 makes it a third
 * larger): hosts cap a tool result at around 1 MB. Display copies are sent
 * while they fit; the remaining photos go as thumbnails.
 */
export const IMAGE_BUDGET_BYTES = 700_000;

export async function download(url: string, signal?: AbortSignal): Promise<Buffer | undefined> {
  try {
    const res = await fetch(url, { signal });
    return res.ok ? Buffer.from(await res.arrayBuffer()) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The task's latest proof for a model to look at: each photo as an MCP
 * image block (the display copy, or its thumbnail beyond the budget),
 * fetched through the photo's signed URL, and a resource link to the
 * original as uploaded. Nothing before proof exists.
 */
export async function proofImages(task: TaskView, signal?: AbortSignal): Promise<ContentBlock[]> {
  const photos = task.proof?.photos ?? [];
  const blocks: ContentBlock[] = [];
  let spent = 0;
  for (const photo of photos) {
    const label = `Proof photo ${photo.position + 1} of ${photos.length} (attempt ${task.proof!.attempt})`;
    let image = photo.display_url ? await download(photo.display_url, signal) : undefined;
    if (image && spent + image.length > IMAGE_BUDGET_BYTES) image = photo.thumbnail_url ? await download(photo.thumbnail_url, signal) : undefined;
    if (image && spent + image.length <= IMAGE_BUDGET_BYTES) {
      spent += image.length;
      blocks.push({ type: "text", text: `${label}:` }, { type: "image", data: image.toString("base64"), mimeType: "image/jpeg" });
    } else {
      blocks.push({ type: "text", text: `${label}: no preview (it does not decode, or the previews already fill this result); open the original below.` });
    }
    if (photo.url) {
      blocks.push({ type: "resource_link", uri: photo.url, name: `proof-${task.task_id}-${task.proof!.attempt}-${photo.position}`, mimeType: photo.content_type, description: `${label}, the original as uploaded (EXIF included); the link expires within minutes` });
    }
  }
  return blocks;
}
