import type { IncomingMessage } from "node:http";
import busboy from "busboy";
import { DomainError, LimitExceededError, ValidationError } from "../common/errors";
import type { MultipartBody, MultipartLimits } from "./rest.route";

/**
 * Reads a multipart/form-data upload into memory within hard limits: a file
 * over `fileBytes` is PAYLOAD_TOO_LARGE, more than `files` files is
 * LIMIT_EXCEEDED, and unknown parts are refused by name. Reading stops at
 * the first broken limit.
 */
export function readMultipart(req: IncomingMessage, limits: MultipartLimits): Promise<MultipartBody> {
  return new Promise((resolve, reject) => {
    const fields: Record<string, string> = {};
    const files: MultipartBody["files"] = [];
    let failed = false;
    const maxParts = limits.files + limits.fields.length;
    let parser: busboy.Busboy;
    try {
      parser = busboy({
        headers: req.headers,
        // busboy signals partsLimit on *reaching* its limit (filesLimit and fieldsLimit on going past theirs): one more than allowed.
        limits: { fileSize: limits.fileBytes, files: limits.files, fields: limits.fields.length, fieldSize: limits.fieldBytes, parts: maxParts + 1 },
      });
    } catch (err) {
      return reject(new ValidationError("body", `is not a readable multipart/form-data body (${(err as Error).message})`));
    }
    const fail = (err: Error) => {
      if (failed) return;
      failed = true;
      req.unpipe(parser);
      req.resume();
      reject(err);
    };

    parser.on("file", (name, stream, info) => {
      const index = files.length;
      if (name !== limits.fileField) {
        stream.resume();
        return fail(new ValidationError(name, `is not a known file field (send photos as "${limits.fileField}")`));
      }
      const chunks: Buffer[] = [];
      stream.on("data", (chunk: Buffer) => chunks.push(chunk));
      stream.on("limit", () => fail(new DomainError("PAYLOAD_TOO_LARGE", `${name}[${index}]: must be at most ${limits.fileBytes} bytes`, `${name}[${index}]`)));
      stream.on("end", () => {
        if (!failed) files[index] = { data: Buffer.concat(chunks), contentType: info.mimeType, filename: info.filename };
      });
      files.length = index + 1;
    });
    parser.on("field", (name, value, info) => {
      if (!limits.fields.includes(name)) return fail(new ValidationError(name, "is not a known field"));
      if (info.valueTruncated) return fail(new DomainError("PAYLOAD_TOO_LARGE", `${name}: must be at most ${limits.fieldBytes} bytes`, name));
      fields[name] = value;
    });
    parser.on("filesLimit", () => fail(new LimitExceededError(`${limits.fileField}: at most ${limits.files} files per request`, limits.fileField)));
    parser.on("fieldsLimit", () => fail(new ValidationError("body", `has too many fields (known fields: ${limits.fields.join(", ")})`)));
    parser.on("partsLimit", () => fail(new LimitExceededError(`the form has more than ${maxParts} parts`)));
    parser.on("error", (err: Error) => fail(new ValidationError("body", `is not a readable multipart/form-data body (${err.message})`)));
    parser.on("close", () => {
      if (!failed) resolve({ fields, files });
    });
    req.pipe(parser);
  });
}
