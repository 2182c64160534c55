/** A pack's layer, add-on type and clouds (and deprecation) as badges: on search cards and pack pages. */
export function PackBadges(props: {
  layer: string;
  addonType: string | null;
  cloudTypes: string[];
  deprecated?: boolean;
}) {
  return (
    <span class="badges">
      <span class={`badge layer-${props.layer}`}>{props.layer}</span>
      {props.addonType && <span class="badge">{props.addonType}</span>}
      {props.cloudTypes.map((cloud) => (
        <span key={cloud} class="badge cloud">
          {cloud}
        </span>
      ))}
      {props.deprecated && <span class="badge warn">deprecated</span>}
    </span>
  );
}
