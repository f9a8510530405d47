import L from "leaflet";
import { useEffect, useRef } from "preact/hooks";
import { appConfig } from "./api";

export interface MapPoint {
  lat: number;
  lng: number;
  label: string;
  kind: "task" | "here";
}

/**
 * A Leaflet map of tasks around a point. Tiles come from the deployment's
 * map_tile_url; with none configured, or none reachable, the markers still
 * show (over a plain background) and the list beside the map carries the same
 * facts, so the page works without tiles. Markers are vector circles: no
 * marker images to fetch.
 */
export function TaskMap(props: { points: MapPoint[]; label: string }) {
  const element = useRef<HTMLDivElement>(null);
  const map = useRef<L.Map>();
  const layer = useRef<L.LayerGroup>();

  useEffect(() => {
    if (!element.current) return;
    const created = L.map(element.current, { zoomControl: true, attributionControl: true, keyboard: true });
    map.current = created;
    layer.current = L.layerGroup().addTo(created);
    let cancelled = false;
    void appConfig().then((config) => {
      if (cancelled || !config.map_tile_url) return;
      L.tileLayer(config.map_tile_url, { maxZoom: 19, attribution: typeof config.map_attribution === "string" ? config.map_attribution : "" }).addTo(created);
    });
    return () => {
      cancelled = true;
      created.remove();
      map.current = undefined;
    };
  }, []);

  useEffect(() => {
    const m = map.current;
    const group = layer.current;
    if (!m || !group) return;
    group.clearLayers();
    for (const point of props.points) {
      L.circleMarker([point.lat, point.lng], {
        radius: point.kind === "here" ? 7 : 9,
        color: point.kind === "here" ? "#1d4ed8" : "#b45309",
        fillColor: point.kind === "here" ? "#3b82f6" : "#f59e0b",
        fillOpacity: 0.9,
        weight: 2,
      })
        .bindTooltip(point.label)
        .addTo(group);
    }
    if (props.points.length === 1) m.setView([props.points[0].lat, props.points[0].lng], 15);
    else if (props.points.length > 1) m.fitBounds(L.latLngBounds(props.points.map((p) => [p.lat, p.lng] as [number, number])), { padding: [24, 24], maxZoom: 16 });
    else m.setView([0, 0], 2);
  }, [props.points]);

  return <div ref={element} class="map" role="region" aria-label={props.label} />;
}
