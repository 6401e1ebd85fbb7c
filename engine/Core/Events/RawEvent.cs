namespace PricingOptimizer.Events;

/// <summary>
/// An event as it arrived (JSON or CSV), every field still text, before <see cref="EventValidator"/> has
/// checked it. A field the sender gave with the wrong JSON type is recorded in <see cref="TypeErrors"/>.
/// </summary>
public sealed class RawEvent
{
    public string? EventId { get; set; }
    public string? Type { get; set; }
    public string? ExperimentId { get; set; }
    public string? VariantId { get; set; }
    public string? UserId { get; set; }
    public string? Price { get; set; }
    public string? Revenue { get; set; }
    public string? Currency { get; set; }
    public string? OccurredAt { get; set; }
    public Dictionary<string, string>? Properties { get; set; }

    /// <summary>Fields that could not even be read as text, with the reason.</summary>
    public List<EventError> TypeErrors { get; } = [];
}

/// <summary>A rule an event broke: the field (wire name) and the rule in words.</summary>
public sealed record EventError(string Field, string Reason);
