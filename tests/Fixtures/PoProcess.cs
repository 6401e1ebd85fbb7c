using System.Diagnostics;

namespace PricingOptimizer.Tests.Fixtures;

/// <summary>Runs the real <c>po</c> command line as a child process, the way a user does.</summary>
public static class PoProcess
{
    public sealed record Result(int ExitCode, string Stdout, string Stderr);

    public static Task<Result> RunAsync(string workingDirectory, IDictionary<string, string>? environment, params string[] args) =>
        RunDllAsync("po.dll", workingDirectory, environment, args);

    /// <summary>Another program of the solution built beside the tests (a sample app), the same way.</summary>
    public static async Task<Result> RunDllAsync(string dll, string workingDirectory, IDictionary<string, string>? environment, params string[] args)
    {
        var start = new ProcessStartInfo("dotnet")
        {
            WorkingDirectory = workingDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, dll));
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        foreach (var (key, value) in environment ?? new Dictionary<string, string>())
        {
            start.Environment[key] = value;
        }

        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(3));
        await process.WaitForExitAsync(timeout.Token);
        return new Result(process.ExitCode, await stdout, await stderr);
    }
}
