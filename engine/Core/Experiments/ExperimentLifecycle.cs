using PricingOptimizer.Errors;

namespace PricingOptimizer.Experiments;

/// <summary>The lifecycle of an experiment: draft → active ⇄ paused → completed, and what each action may move.</summary>
public static class ExperimentLifecycle
{
    /// <summary>The legal moves: action → (from states, to state).</summary>
    private static readonly Dictionary<string, (ExperimentStatus[] From, ExperimentStatus To)> Moves = new()
    {
        ["start"] = ([ExperimentStatus.Draft, ExperimentStatus.Paused], ExperimentStatus.Active),
        ["pause"] = ([ExperimentStatus.Active], ExperimentStatus.Paused),
        ["complete"] = ([ExperimentStatus.Active, ExperimentStatus.Paused], ExperimentStatus.Completed),
    };

    /// <summary>An unknown action is not found, naming the actions there are.</summary>
    public static void EnsureAction(string action)
    {
        if (!Moves.ContainsKey(action))
        {
            throw new NotFoundException($"no action '{action}'; actions: {string.Join(", ", Moves.Keys)}");
        }
    }

    /// <summary>The actions allowed from <paramref name="status"/>.</summary>
    public static IReadOnlyList<string> Allowed(ExperimentStatus status) => [.. Moves.Where(m => m.Value.From.Contains(status)).Select(m => m.Key)];

    /// <summary>Where <paramref name="action"/> takes an experiment in <paramref name="status"/>; an illegal move is a
    /// conflict naming the allowed ones.</summary>
    public static ExperimentStatus Next(string action, ExperimentStatus status)
    {
        EnsureAction(action);
        var move = Moves[action];
        if (!move.From.Contains(status))
        {
            var allowed = Allowed(status);
            throw new ConflictException(
                $"cannot {action} {Article(Name(status))} {Name(status)} experiment; allowed: " +
                    $"{(allowed.Count == 0 ? "none (it is final)" : string.Join(", ", allowed))}",
                "status", allowed);
        }

        return move.To;
    }

    /// <summary>The status as the API writes it.</summary>
    public static string Name(ExperimentStatus status) => Json.Wire.Name(status);

    private static string Article(string word) => "aeiou".Contains(word[0], StringComparison.Ordinal) ? "an" : "a";
}
