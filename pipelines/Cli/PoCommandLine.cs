using PricingOptimizer.Errors;
using System.CommandLine;

namespace PricingOptimizer.Pipelines.Cli;

/// <summary>How po (and the benchmarks) run a command line: one-line errors prefixed with the program's name, and exit codes.</summary>
public static class PoCommandLine
{
    /// <summary>Runs <paramref name="root"/> as <paramref name="program"/>: errors as one line prefixed with the program's name, and an exit code.</summary>
    public static async Task<int> RunAsync(RootCommand root, string[] args, string program)
    {
        // 'po help [command]' is '--help' in the words people type.
        if (args.Length > 0 && args[0] == "help")
        {
            args = [.. args.Skip(1), "--help"];
        }

        var parse = root.Parse(args);
        if (parse.Errors.Count > 0)
        {
            await Console.Error.WriteLineAsync($"{program}: {OneLine(parse.Errors[0].Message)} (see '{program} " +
                $"{string.Join(' ', CommandPath(parse))} --help')");
            return 2;
        }

        try
        {
            return await parse.InvokeAsync(new InvocationConfiguration { EnableDefaultExceptionHandler = false });
        }
        catch (CliException e)
        {
            await Console.Error.WriteLineAsync(program + ": " + OneLine(e.Message));
            return e.ExitCode;
        }
        catch (ProblemException e)
        {
            await Console.Error.WriteLineAsync(program + ": " + OneLine(ProblemLine(e)));
            return 1;
        }
        catch (OperationCanceledException)
        {
            await Console.Error.WriteLineAsync(program + ": cancelled");
            return 130;
        }
        catch (Exception e) when (Environment.GetEnvironmentVariable("PO_DEBUG") is null)
        {
            await Console.Error.WriteLineAsync($"{program}: {e.GetType().Name}: {OneLine(e.Message)} (set PO_DEBUG=1 for the stack trace)");
            return 1;
        }
    }

    /// <summary>
    /// The engine's errors as the CLI says them: a field the command takes as an option is named as that option
    /// (<c>unit_cost</c> → <c>--unit-cost</c>, <c>experiment_id</c> → <c>--experiment</c>), any other field as it is.
    /// </summary>
    internal static string ProblemLine(ProblemException e) => e.Field switch
    {
        null => e.Message,
        "experiment_id" => "--experiment: " + e.Message,
        var field when field.All(c => char.IsAsciiLetterLower(c) || c == '_') => $"--{field.Replace('_', '-')}: {e.Message}",
        var field => $"{field}: {e.Message}",
    };

    private static string OneLine(string message) =>
        string.Join(' ', message.Split(['\r', '\n', '\t'], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));

    private static IEnumerable<string> CommandPath(ParseResult parse)
    {
        var names = new Stack<string>();
        for (var c = parse.CommandResult; c?.Parent is System.CommandLine.Parsing.CommandResult parent; c = parent)
        {
            names.Push(c.Command.Name);
        }

        return names;
    }
}

/// <summary>An error the user can fix: printed as one line, exit code non-zero.</summary>
public sealed class CliException(string message, int exitCode = 1) : Exception(message)
{
    public int ExitCode { get; } = exitCode;
}
