import type { PhotoSettings } from "./photo.config";
import { DatabasePhotoStore } from "./database.photo-store";
import { DirectoryPhotoStore } from "./directory.photo-store";
import { S3PhotoStore } from "./s3.photo-store";
import type { PhotoStore } from "./photo.store";

/** The store PHOTO_STORE names (config.ts has checked its settings). */
export function createPhotoStore(settings: PhotoSettings): PhotoStore {
  switch (settings.store) {
    case "database":
      return new DatabasePhotoStore();
    case "directory":
      return new DirectoryPhotoStore(settings.directory);
    case "s3": {
      const s3 = settings.s3!;
      return new S3PhotoStore({ ...s3, secretAccessKey: s3.secretAccessKey?.reveal() });
    }
  }
}
