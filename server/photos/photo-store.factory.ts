import type { PhotoSettings } from "./photo.config";
import { DatabasePhotoStore } from "./database.photo-store";
import { DirectoryPhotoStore } from "./directory.photo-store";
import type { PhotoStore } from "./photo.store";

/** The store PHOTO_STORE names (config.ts has checked its settings). */
export function createPhotoStore(settings: PhotoSettings): PhotoStore {
  switch (settings.store) {
    case "database":
      return new DatabasePhotoStore();
    case "directory":
      return new DirectoryPhotoStore(settings.directory);
    case "s3": {
      // Loaded here: the AWS SDK is a tenth of a second of every start that does not keep photos in S3.
      const { S3PhotoStore } = require("./s3.photo-store") as typeof import("./s3.photo-store");
      const s3 = settings.s3!;
      return new S3PhotoStore({ ...s3, secretAccessKey: s3.secretAccessKey?.reveal() });
    }
  }
}
