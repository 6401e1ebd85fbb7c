namespace PricingOptimizer.Errors;

/// <summary>
/// A request the caller can fix or retry. The API maps each kind to one problem+json status in one place
/// (<c>ProblemExceptionHandler</c>) and the CLI to one <c>po:</c> line; code that throws one reads as its happy path.
/// </summary>
public abstract class ProblemException(string message, string? field, Exception? inner = null) : Exception(message, inner)
{
    /// <summary>The JSON path, query parameter or header the caller should fix, when there is one.</summary>
    public string? Field { get; } = field;
}

/// <summary>A field broke a rule (400).</summary>
public sealed class InvalidInputException(string message, string field) : ProblemException(message, field);

/// <summary>The credential is not, or no longer, good (401).</summary>
public sealed class UnauthorizedException(string message, string field) : ProblemException(message, field);

/// <summary>No such thing for this caller (404): another tenant's things answer as if absent.</summary>
public sealed class NotFoundException(string message, string? field = null) : ProblemException(message, field);

/// <summary>Not possible in the current state (409); <see cref="Allowed"/> lists what is.</summary>
public sealed class ConflictException(string message, string? field = null, IReadOnlyList<string>? allowed = null) : ProblemException(message, field)
{
    public IReadOnlyList<string>? Allowed { get; } = allowed;
}

/// <summary>
/// The request's <c>If-Match</c> names a version that is no longer current (412): someone changed the resource since
/// it was read. <see cref="CurrentETag"/> is the version to read again.
/// </summary>
public sealed class PreconditionFailedException(string message, string? currentETag) : ProblemException(message, "If-Match")
{
    public string? CurrentETag { get; } = currentETag;
}

/// <summary>A dependency cannot take the request now (503); nothing was kept, and the same request may be sent again after <see cref="RetryAfter"/>.</summary>
public class UnavailableException(string message, Exception? inner = null) : ProblemException(message, null, inner)
{
    /// <summary>When a retry is worth trying.</summary>
    public TimeSpan RetryAfter { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>What is unavailable (<c>event_log</c>, <c>control_plane</c>), when it is known; the answer names it.</summary>
    public string? Component { get; init; }
}
