import sharp from "sharp";
import { generatePhoto } from "../../server/photos/photo.samples";

/** A 640x480 JPEG stored sideways (EXIF orientation 6: shown 480x640) with a camera, a capture time and a GPS position. */
export function cameraJpeg(seed = 1): Promise<Buffer> {
  return sharp(generatePhoto(seed, 640, 480))
    .jpeg()
    .withExif({
      IFD0: { Make: "Acme", Model: "Cam 1" },
      IFD2: { DateTimeOriginal: "2026:12:01 10:00:00" },
      IFD3: { GPSLatitudeRef: "N", GPSLatitude: "30/1 16/1 12/1", GPSLongitudeRef: "W", GPSLongitude: "97/1 44/1 24/1" },
    })
    .withMetadata({ orientation: 6 })
    .toBuffer();
}

let scenes = 10_000;

/** A PNG of a scene no earlier call made: proof photos that the Guardian's reuse check does not match with another task's. */
export function freshPhoto(width?: number, height?: number): Buffer {
  return generatePhoto(scenes++, width, height);
}
